"""CRM and marketing-automation sources: one interface, several implementations."""
