// Test stand-in for Amazon Connect's hosted widget script (amazon-connect-chat-interface-client.js), which needs
// AWS. Like the real script it drains the window.amazon_connect command queue; its launcher button starts a chat
// by calling the page's customerDisplayName and authenticate callbacks, and shows what it was handed.
(function () {
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
  launcher.onclick = function () {
    settings.customerDisplayName(function (name) {
      handedOver.dataset.displayName = name;
    });
    settings.authenticate(function (token) {
      handedOver.textContent = token;
      handedOver.dataset.snippetId = settings.snippetId;
    });
  };
  document.body.append(launcher, handedOver);
})();
