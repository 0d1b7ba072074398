"""HTTP only: one blueprint per audience or noun."""
