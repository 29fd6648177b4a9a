// MSAL v5 redirect bridge: hands the sign-in response back to the page (or to the hidden renewal frame).
import { broadcastResponseToMainFrame } from "@azure/msal-browser/redirect-bridge";

broadcastResponseToMainFrame().catch(() => {
  // Opened without a sign-in response (a bookmark, a reload): go to the page rather than show a blank one.
  window.location.replace("/");
});
