/* The map of the public "Dove rivolgersi" page: one marker for each listed point that has
   coordinates, on tiles from the configured server. The list works without it. */
(function () {
  "use strict";
  var container = document.getElementById("service-map");
  if (!container || !window.L) return;
  var points = Array.prototype.filter.call(document.querySelectorAll("[data-lat][data-lng]"), function (item) {
    return isFinite(parseFloat(item.dataset.lat)) && isFinite(parseFloat(item.dataset.lng));
  });
  if (!points.length) return;
  container.hidden = false;
  window.L.Icon.Default.imagePath = container.dataset.images || "/static/vendor/leaflet/images/";
  var map = window.L.map(container, { scrollWheelZoom: false });
  window.L.tileLayer(container.dataset.tiles, { maxZoom: 18, attribution: container.dataset.attribution }).addTo(map);
  var bounds = [];
  points.forEach(function (item) {
    var place = [parseFloat(item.dataset.lat), parseFloat(item.dataset.lng)];
    bounds.push(place);
    window.L.marker(place, { title: item.dataset.name, alt: item.dataset.name }).addTo(map)
      .bindPopup(document.createTextNode(item.dataset.name));
  });
  if (bounds.length === 1) map.setView(bounds[0], 15);
  else map.fitBounds(bounds, { padding: [24, 24] });
}());
