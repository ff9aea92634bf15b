/* The family map: the boxes listed on the page, drawn with Leaflet over the configured
   tiles (none: a plain background). A box's name shows in a popup when its marker is
   tapped, or reached with Tab and opened with Enter. Without this script the list is the
   page. This script fetches Leaflet (its stylesheet and script, addresses on the map's
   holder) once the page has been drawn, and draws the map when both have arrived: on a slow
   connection the page's own stylesheets come first. */
(function () {
  "use strict";
  var holder = document.getElementById("map");
  if (!holder || !document.querySelector("li.tt-box")) {
    return;
  }
  var waiting = 2;
  var arrived = function () {
    waiting -= 1;
    if (waiting === 0 && typeof L !== "undefined") {
      draw();
    }
  };
  var styles = document.createElement("link");
  styles.rel = "stylesheet";
  styles.href = holder.dataset.leafletCss;
  styles.addEventListener("load", arrived);
  document.head.appendChild(styles);
  var library = document.createElement("script");
  library.src = holder.dataset.leafletJs;
  library.addEventListener("load", arrived);
  document.head.appendChild(library);

  function draw() {
    var items = Array.prototype.slice.call(document.querySelectorAll("li.tt-box"));
    if (!items.length) {
      return;
    }
    holder.hidden = false;
    var note = document.querySelector(".tt-map-note");
    if (note) {
      note.hidden = false;
    }
    var data = holder.dataset;
    var map = L.map(holder, { scrollWheelZoom: false, tap: true });
    map.getContainer().setAttribute("aria-label", data.label);
    map.attributionControl.setPrefix(false);
    if (data.tiles) {
      L.tileLayer(data.tiles, { maxZoom: 19, attribution: "" }).addTo(map);
      if (data.attribution) {
        // Leaflet takes the attribution as HTML: the words are escaped, the link is ours.
        var words = data.attribution
          .replace(/&/g, "&amp;")
          .replace(/</g, "&lt;")
          .replace(/>/g, "&gt;");
        map.attributionControl.addAttribution(
          '<a href="https://www.openstreetmap.org/copyright">' + words + "</a>"
        );
      }
    }
    var words = { bonus: data.bonus, park: data.park, inactive: data.inactive };
    var points = [];
    items.forEach(function (li) {
      var at = [Number(li.dataset.lat), Number(li.dataset.lon)];
      var kind = li.dataset.kind;
      var name = li.dataset.name;
      var icon = L.divIcon({
        className: "tt-pin tt-pin--" + kind,
        iconSize: [22, 22],
        iconAnchor: [11, 11],
        popupAnchor: [0, -10],
      });
      var marker = L.marker(at, { icon: icon, title: name, alt: name, keyboard: true, riseOnHover: true });
      var popup = document.createElement("div");
      var strong = document.createElement("strong");
      strong.textContent = name;
      popup.appendChild(strong);
      if (words[kind]) {
        popup.appendChild(document.createElement("br"));
        popup.appendChild(document.createTextNode(words[kind]));
      }
      marker.bindPopup(popup);
      if (kind === "bonus") {
        marker.setZIndexOffset(1000);
      }
      marker.addTo(map);
      points.push(at);
    });
    map.fitBounds(L.latLngBounds(points).pad(0.15), { maxZoom: 16 });
  }
})();
