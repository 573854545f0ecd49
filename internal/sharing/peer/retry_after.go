package peer

import "time"

// MaxRetryAfter caps how long a partner's Retry-After can make us wait.
const MaxRetryAfter = time.Hour
