"""Alert rules, the alerts they decide, and the delivery of those to people (docs/alerts.md)."""
