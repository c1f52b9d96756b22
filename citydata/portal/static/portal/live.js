// The live map of a real-time dataset: draws the latest position of every key, then moves the markers as
// records arrive over Server-Sent Events. Without script the page lists the latest records instead.
(function () {
  var map = document.getElementById("live-map");
  if (!map || !window.EventSource) {
    return;
  }
  var svgns = "http://www.w3.org/2000/svg";
  var box = map.getAttribute("data-bbox").split(",").map(Number); // west,south,east,north
  var lngField = map.getAttribute("data-lng");
  var latField = map.getAttribute("data-lat");
  var labelField = map.getAttribute("data-label");
  var width = 1000;
  var height = 700;
  var markers = {};
  var count = document.getElementById("live-count");
  var clock = document.getElementById("live-time");

  function project(lng, lat) {
    return [((lng - box[0]) / (box[2] - box[0])) * width, ((box[3] - lat) / (box[3] - box[1])) * height];
  }

  function place(item) {
    var data = item.data || {};
    var lng = Number(data[lngField]);
    var lat = Number(data[latField]);
    if (!isFinite(lng) || !isFinite(lat)) {
      return;
    }
    var xy = project(lng, lat);
    var marker = markers[item.key];
    if (!marker) {
      marker = document.createElementNS(svgns, "circle");
      marker.setAttribute("r", "7");
      marker.setAttribute("class", "marker");
      marker.setAttribute("data-key", item.key);
      var title = document.createElementNS(svgns, "title");
      marker.appendChild(title);
      map.appendChild(marker);
      markers[item.key] = marker;
    }
    marker.setAttribute("cx", xy[0].toFixed(1));
    marker.setAttribute("cy", xy[1].toFixed(1));
    marker.firstChild.textContent = item.key + (labelField && data[labelField] ? " · " + data[labelField] : "");
    if (count) {
      count.textContent = Object.keys(markers).length;
    }
    if (clock && item.time) {
      clock.textContent = item.time.replace("T", " ").slice(0, 19);
    }
  }

  var base = map.getAttribute("data-api");
  window
    .fetch(base + "/latest?_size=1000", { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (page) { (page.items || []).forEach(place); })
    .finally(function () {
      var source = new EventSource(base + "/events");
      source.addEventListener("record", function (event) {
        place(JSON.parse(event.data));
      });
    });
})();
