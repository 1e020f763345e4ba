// The site's one script: the WebAuthn bridge between the pool's JSON options and the browser.
// A form with data-webauthn="create" or "get" carries the pool's options (JSON, base64url) in
// data-webauthn-options; on submit this asks the browser for the passkey, puts its answer (JSON,
// base64url) in the form's [data-webauthn-result] field, and posts the form.
"use strict";
(function () {
  function toBytes(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    b64 += "===".slice((b64.length + 3) % 4);
    return Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); }).buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: toBytes(d.id) }); });
  }
  function creation(o) {
    return Object.assign({}, o, {
      challenge: toBytes(o.challenge),
      user: Object.assign({}, o.user, { id: toBytes(o.user.id) }),
      excludeCredentials: descriptors(o.excludeCredentials),
    });
  }
  function request(o) {
    return Object.assign({}, o, {
      challenge: toBytes(o.challenge),
      allowCredentials: descriptors(o.allowCredentials),
    });
  }
  function answer(credential) {
    var r = credential.response, response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: response,
    };
  }
  function say(text) {
    var box = document.querySelector("[data-webauthn-error]");
    if (box) { box.textContent = text; box.hidden = false; }
  }
  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var field = form.querySelector("[data-webauthn-result]");
      if (field.value) return; // the browser answered: post it
      event.preventDefault();
      if (!window.PublicKeyCredential) {
        say("This browser cannot use passkeys here. Open the site on a host name such as localhost.");
        return;
      }
      var options = JSON.parse(form.dataset.webauthnOptions);
      var asked = form.dataset.webauthn === "create"
        ? navigator.credentials.create({ publicKey: creation(options) })
        : navigator.credentials.get({ publicKey: request(options) });
      asked.then(function (credential) {
        field.value = JSON.stringify(answer(credential));
        form.submit();
      }, function (error) {
        say("The passkey was not used (" + error.name + "). You can try again or go another way.");
      });
    });
  });
})();
