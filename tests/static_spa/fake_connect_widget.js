// Test stand-in for Amazon Connect's hosted widget script (amazon-connect-chat-interface-client.js), which needs
// AWS. Like the real script it drains the window.amazon_connect command queue; its launcher button starts a chat
// by calling the page's customerDisplayName and authenticate callbacks, and shows what it was handed.
// Its call buttons start a web or video call the way a hosted widget does: the contact token from authenticate
// goes to the widget's own frame (fake_call_frame.html, served from this script's origin, not the page's), which
// opens the microphone (and camera) there. The frame asks for them with an allow attribute; whether it gets
// them is for the page's Permissions-Policy to decide.
// Like the hosted widget, it keeps the active chat in the page origin's sessionStorage (persistedChatSession) and
// resumes it on load (#fake-widget-chat, data-restored="true").
(function () {
  var widgetOrigin = new URL(document.currentScript.src).origin;
  var settings = {};
  var queued = (window.amazon_connect && window.amazon_connect.ac) || [];
  queued.forEach(function (args) {
    settings[args[0]] = args[1];
  });
  window.amazon_connect = function (name, value) {
    settings[name] = value;
  };
  var launcher = document.createElement("button");
  launcher.id = "fake-widget-launcher";
  launcher.textContent = "Chat (test widget)";
  launcher.style.position = "fixed";
  launcher.style.right = "1rem";
  launcher.style.bottom = "1rem";
  var handedOver = document.createElement("output");
  handedOver.id = "fake-widget-token";
  handedOver.hidden = true;
  var chat = document.createElement("output");
  chat.id = "fake-widget-chat";
  chat.hidden = true;
  function showChat(contactId, restored) {
    chat.textContent = contactId;
    chat.dataset.restored = String(restored);
    chat.hidden = false;
  }
  var kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem("persistedChatSession") || "null");
  } catch (error) {
    kept = null;
  }
  if (kept && typeof kept.contactId === "string") showChat(kept.contactId, true);
  launcher.onclick = function () {
    settings.customerDisplayName(function (name) {
      handedOver.dataset.displayName = name;
    });
    settings.authenticate(function (token) {
      handedOver.textContent = token;
      handedOver.dataset.snippetId = settings.snippetId;
      var contactId = crypto.randomUUID();
      sessionStorage.setItem(
        "persistedChatSession",
        JSON.stringify({ contactId: contactId, participantId: crypto.randomUUID(), participantToken: "test-only" }),
      );
      showChat(contactId, false);
      if (settings.contactMetadataHandler) settings.contactMetadataHandler({ chatContactId: contactId });
    });
  };
  var callResult = document.createElement("output");
  callResult.id = "fake-widget-call-result";
  callResult.hidden = true;

  function startCall(video) {
    settings.customerDisplayName(function (name) {
      callResult.dataset.displayName = name;
    });
    settings.authenticate(function (token) {
      var frame = document.createElement("iframe");
      frame.id = "fake-widget-call-frame";
      frame.allow = video ? "microphone; camera" : "microphone";
      frame.src = widgetOrigin + "/fake_call_frame.html";
      frame.onload = function () {
        frame.contentWindow.postMessage({ token: token, video: video }, widgetOrigin);
      };
      document.body.append(frame);
    });
  }
  window.addEventListener("message", function (event) {
    if (event.origin !== widgetOrigin || !event.data || event.data.type !== "fake-call-result") return;
    callResult.dataset.outcome = event.data.outcome;
    callResult.dataset.tracks = event.data.tracks.join(",");
    callResult.dataset.error = event.data.error || "";
    callResult.textContent = event.data.token;
  });

  var voiceCall = document.createElement("button");
  voiceCall.id = "fake-widget-voice-call";
  voiceCall.textContent = "Call (test widget)";
  voiceCall.onclick = function () {
    startCall(false);
  };
  var videoCall = document.createElement("button");
  videoCall.id = "fake-widget-video-call";
  videoCall.textContent = "Video call (test widget)";
  videoCall.onclick = function () {
    startCall(true);
  };
  document.body.append(launcher, handedOver, chat, voiceCall, videoCall, callResult);
})();
