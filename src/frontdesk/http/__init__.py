"""The HTTP surface: REST API, webhooks, websocket stream, operations endpoints."""
