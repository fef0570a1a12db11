"""The API's limits, each stated in docs/api.md: the request models, the rules and the
handlers all take them from here."""

MAX_BODY_BYTES = 64 * 1024

# An order from the order system.
MAX_PACKAGES = 50
MAX_LINES = 100
MAX_QUANTITY = 100_000
MAX_DISTINCT_PRODUCTS = 90

# A cancellation request.
MAX_ITEMS = 100
MAX_NOTE_LENGTH = 500

# Listings.
MAX_PAGE_SIZE = 100
ORDERS_PAGE_SIZE = 20
PRODUCTS_PAGE_SIZE = 100
MAX_PRODUCT_FILTERS = 20
# A product-filtered token carries each product's place; 20 of them fit well within this.
MAX_PAGE_TOKEN_LENGTH = 8192
