package reports

import (
	"strconv"
	"strings"
	"time"
)

// FormatTime is the one way reports write a virtual time or a duration:
// seconds, with at least three decimals and at most six (microseconds),
// such as 0.500s, 0.544711s or 60.003649s. Go's own form mixes units
// (544.710576ms, 1m0.003649443s), which is hard to compare down a column.
// time.ParseDuration reads it back.
func FormatTime(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	us := (d + 500*time.Nanosecond) / time.Microsecond
	s := strconv.FormatInt(int64(us/1e6), 10) + "." + pad6(int64(us%1e6))
	for strings.HasSuffix(s, "0") && len(s)-strings.IndexByte(s, '.') > 4 {
		s = s[:len(s)-1]
	}
	if neg {
		s = "-" + s
	}
	return s + "s"
}

func pad6(n int64) string {
	s := strconv.FormatInt(n, 10)
	return strings.Repeat("0", 6-len(s)) + s
}
