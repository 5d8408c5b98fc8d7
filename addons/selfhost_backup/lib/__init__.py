"""Streaming backup pipeline: plain Python (no `odoo` import), tested with pytest
without a server. The addon's models and its `odoo-bin` sub-command are thin
adapters over these modules."""
