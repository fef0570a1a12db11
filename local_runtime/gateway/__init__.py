"""API Gateway's part: the HTTP API's routes and JWT authorizer (``server``, ``auth``), the
payload-2.0 events and what the functions' answers mean (``http_api``), local tokens
(``tokens``) and the console's static files (``console_site``)."""
