package generated

import "time"

func now() time.Time { return time.Now() } // want `time.Now reads the wall clock`
