// The interactive API reference at /api/govservice/docs: Swagger UI (vendored,
// see webassets.yml) over our openapi.json. "Try it out" only for GET, the
// read actions; no validator badge (it would ask validator.swagger.io).
(function () {
  function start() {
    var node = document.getElementById("swagger-ui");
    if (!node || typeof SwaggerUIBundle === "undefined") { return; }
    window.govserviceApiReference = SwaggerUIBundle({
      url: node.getAttribute("data-spec"),
      domNode: node,
      deepLinking: true,
      validatorUrl: null,
      supportedSubmitMethods: ["get"],
      docExpansion: "list",
      defaultModelsExpandDepth: 0,
      displayOperationId: true,
      tryItOutEnabled: false
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
