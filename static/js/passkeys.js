// godparents: passkeys (WebAuthn). A form with data-passkey="create" or "get" and the server's
// options (JSON, base64url as in WebAuthn Level 3) in data-options asks the browser for a
// passkey when it is sent, puts the browser's answer in its hidden "credential" field and
// then sends the form as usual (with its CSRF token). Served from this site only (CSP).
"use strict";

(() => {
  const toBytes = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  };
  const toText = (buffer) => {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const descriptors = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  async function create(options) {
    const publicKey = {
      ...options,
      challenge: toBytes(options.challenge),
      user: { ...options.user, id: toBytes(options.user.id) },
      excludeCredentials: descriptors(options.excludeCredentials),
    };
    const credential = await navigator.credentials.create({ publicKey });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
    };
  }

  async function get(options) {
    const publicKey = {
      ...options,
      challenge: toBytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    };
    const credential = await navigator.credentials.get({ publicKey });
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: response.userHandle ? toText(response.userHandle) : null,
      },
    };
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-passkey]");
    if (!form || form.dataset.passkeyDone) return;
    event.preventDefault();
    const error = form.querySelector("[data-passkey-error]");
    if (error) error.hidden = true;
    if (!window.PublicKeyCredential) {
      if (error) { error.textContent = form.dataset.unsupported; error.hidden = false; }
      return;
    }
    try {
      const options = JSON.parse(form.dataset.options);
      const answer = form.dataset.passkey === "create" ? await create(options) : await get(options);
      form.querySelector("input[name=credential]").value = JSON.stringify(answer);
      form.dataset.passkeyDone = "1";
      // (form.submit would be the button named "submit")
      HTMLFormElement.prototype.submit.call(form);
    } catch (problem) {
      if (error) { error.textContent = form.dataset.failed; error.hidden = false; }
    }
  });
})();
