"""HTTP server, the digital-human page and the WeChat channels."""
