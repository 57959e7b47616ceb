// Starts Swagger UI on the service's own document. A file, not an inline script, so the page
// works under `script-src 'self'`.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
})
