"""Helpers of the WeChat Official Account channel (addons/channels/wechat_channel.py)."""
