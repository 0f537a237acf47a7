"""The WeChat channel: an Official Account (service account) through WeChat's server API."""
