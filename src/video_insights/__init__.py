"""Video Insights: self-hostable call-quality analytics for WebRTC video applications."""

__version__ = "0.1.0"
