"""Helpers of the WeChat Official Account channel (addons/wechat_channel.py)."""
