// The stand-in call frame's script (see fake_call_frame.html): a call starts when the widget script in the parent
// page hands over the contact token; the answer says which media tracks the browser let this frame open.
window.addEventListener("message", function (event) {
  if (event.source !== window.parent || !event.data || typeof event.data.token !== "string") return;
  var reply = function (outcome, tracks, error) {
    window.parent.postMessage(
      { type: "fake-call-result", outcome: outcome, tracks: tracks, error: error, token: event.data.token },
      event.origin,
    );
  };
  navigator.mediaDevices
    .getUserMedia({ audio: true, video: event.data.video })
    .then(function (stream) {
      var tracks = stream.getTracks().map(function (track) {
        return track.kind + ":" + track.readyState;
      });
      stream.getTracks().forEach(function (track) {
        track.stop();
      });
      reply("connected", tracks, "");
    })
    .catch(function (error) {
      reply("refused", [], error.name);
    });
});
