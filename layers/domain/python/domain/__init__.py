"""Cancellation rules and refund math for Awaiting Shipment orders: standard library only."""
