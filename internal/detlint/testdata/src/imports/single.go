package imports

import "crypto/rand" // want `import of crypto/rand`

var _ = rand.Reader
