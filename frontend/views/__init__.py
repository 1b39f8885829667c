"""The web pages, one module per area. Views are thin: fetch, check, call a service, render."""
