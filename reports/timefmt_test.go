package reports

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestFormatTime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                     "0.000s",
		500 * time.Millisecond:                "0.500s",
		544710576 * time.Nanosecond:           "0.544711s",
		time.Minute + 3649443*time.Nanosecond: "60.003649s",
		-2 * time.Second:                      "-2.000s",
		90 * time.Second:                      "90.000s",
	} {
		assert.Equal(t, want, FormatTime(d), "%v", d)
	}
}

// TestFormatTimeReadsBack: the format is one that time.ParseDuration reads,
// to the microsecond.
func TestFormatTimeReadsBack(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		d := time.Duration(rapid.Int64Range(-1e15, 1e15).Draw(rt, "d"))
		back, err := time.ParseDuration(FormatTime(d))
		require.NoError(rt, err)
		assert.InDelta(rt, float64(d), float64(back), 500)
	})
}

func TestTickLabel(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0s",
		4560 * time.Millisecond: "4.56s",
		20 * time.Millisecond:   "0.02s",
		time.Minute:             "60s",
		1500 * time.Microsecond: "0.0015s",
		-250 * time.Millisecond: "-0.25s",
	} {
		assert.Equal(t, want, tickLabel(d, 0), "%v", d)
	}
}
