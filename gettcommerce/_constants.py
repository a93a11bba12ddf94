"""Defaults of gettcommerce, in one place."""

PRODUCTION_BASE_URL = "https://api.gett-tech.com"
SANDBOX_BASE_URL = "https://api-sandbox.gett-tech.com"
ENV_API_KEY = "GETT_API_KEY"
ENV_BASE_URL = "GETT_BASE_URL"

DEFAULT_TIMEOUT = 30.0            # seconds for a whole call, retries included
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_POOL_SIZE = 8             # idle libcurl handles kept per Client

LIST_STORES_PAGE_SIZE = 100       # the API's maximum limit

DEFAULT_BATCH_CONCURRENCY = 32    # transfers a batch keeps in flight
DEFAULT_ASYNC_MAX_CONCURRENCY = 64  # transfers one AsyncClient keeps in flight; more calls queue
BATCH_PROGRESS_MIN_CALLS = 1000   # progress=True shows a counter only for batches larger than this

WEBHOOK_TOLERANCE = 300           # seconds a webhook Timestamp may be off, either way
WEBHOOK_API_VERSION = "2026-01-30"

ONBOARDING_WAIT_TIMEOUT = 300.0
ONBOARDING_POLL_INTERVAL = 1.0
ONBOARDING_MAX_POLL_INTERVAL = 10.0
