"""The session's user, read once from the database and then from the shared cache (the site's
backend: a deployment tuning, like config.cache, that no flow needs).

Django reads the signed-in user from the database on every request. With a shared cache
(`CACHE_URL`), this backend keeps that row in the cache instead, for `USER_CACHE_SECONDS` at most,
and drops it whenever the user is saved or deleted through the ORM, in any process. Without a
shared cache it is Django's own ModelBackend: a per-process copy would not see another process's
changes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save


def _key(user_id: Any) -> str:
    return f"site.user.{user_id}"


class UserBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        if not settings.SHARED_CACHE:
            return super().get_user(user_id)
        user = cache.get(_key(user_id))
        if user is None:
            user = super().get_user(user_id)  # None when missing or inactive: never cached
            if user is not None:
                cache.set(_key(user_id), user, timeout=settings.USER_CACHE_SECONDS)
        return user


def user_changed(sender: type, instance: Any, **kwargs: Any) -> None:
    """Saved or deleted: the next request of each of the user's sessions reads the database."""
    cache.delete(_key(instance.pk))


def connect_signals() -> None:
    user_model = get_user_model()
    post_save.connect(user_changed, sender=user_model, dispatch_uid="site.user_changed.save")
    post_delete.connect(user_changed, sender=user_model, dispatch_uid="site.user_changed.delete")
