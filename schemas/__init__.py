"""marshmallow schemas: request arguments and response bodies, one module per noun."""
