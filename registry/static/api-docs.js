// Swagger UI on /api/docs, reading the served document (a file, as the CSP allows no inline script).
(function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: root.dataset.document, domNode: root, deepLinking: true });
})();
