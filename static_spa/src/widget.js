// Loads the Amazon Connect communications widget from config.json, doing what AWS's pasted snippet does:
// a command queue on window.amazon_connect, then the widget script (whose element id is the widget id).

/** Creates the amazon_connect command queue the widget script drains when it loads. */
export function installCommandQueue(win) {
  if (typeof win.amazon_connect !== "function") {
    win.amazon_connect = function amazonConnectQueue(...args) {
      (win.amazon_connect.ac = win.amazon_connect.ac || []).push(args);
    };
  }
  return win.amazon_connect;
}

/** Queues the snippet's settings and the page's callbacks. */
export function configureWidget(amazonConnect, widget, handlers) {
  amazonConnect("styles", widget.styles);
  amazonConnect("snippetId", widget.snippetId);
  amazonConnect("supportedMessagingContentTypes", widget.supportedMessagingContentTypes);
  amazonConnect("authenticate", handlers.authenticate);
  amazonConnect("customerDisplayName", handlers.customerDisplayName);
  // Persistent chat: the widget tells the page the new chat's contact id through this callback (contact-history.js).
  if (handlers.contactMetadataHandler) amazonConnect("contactMetadataHandler", handlers.contactMetadataHandler);
}

/** Appends the widget script once. */
export function loadWidgetScript(doc, widget) {
  if (doc.getElementById(widget.widgetId)) return;
  const script = doc.createElement("script");
  script.src = widget.scriptUrl;
  script.async = true;
  script.id = widget.widgetId;
  doc.head.appendChild(script);
}
