"""Typed bizModels for the whole OpenAPI 2.0 surface: one module per menu group.

``base`` holds the shared behaviour (wire names, masking, open enums, paging), ``common`` the shared
identifiers and state enums, and ``catalogue`` maps every apiCode to its request and response model.
"""
