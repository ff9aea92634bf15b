/* "Check in here": asks for the phone's position only when the button is pressed, shows a
   sign while the position is being used, then sends the form with it. Without this script
   (or without geolocation) the form goes without a position and the server explains. */
(function () {
  "use strict";
  var form = document.getElementById("checkin-form");
  if (!form || !navigator.geolocation) {
    return;
  }
  var status = document.getElementById("checkin-status");
  var button = document.getElementById("checkin-button");
  var busy = false;

  function say(id, kind) {
    status.className = "govuk-body tt-locating tt-locating--" + kind;
    status.textContent = document.getElementById(id).textContent;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    button.setAttribute("aria-disabled", "true");
    say("word-locating", "on");
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = String(position.coords.latitude);
        form.elements.lon.value = String(position.coords.longitude);
        form.elements.accuracy.value = String(position.coords.accuracy);
        say("word-sending", "on");
        form.submit(); // no submit event: this handler does not run again
      },
      function (error) {
        busy = false;
        button.removeAttribute("aria-disabled");
        say(error.code === 1 ? "word-denied" : "word-unavailable", "problem");
      },
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 }
    );
  });
})();
