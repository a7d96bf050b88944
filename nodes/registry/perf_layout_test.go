package registry

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// TestPerClientLayouts pins the sizes of what the registry keeps per client
// and per registration, below the next allocation size class: a field
// added carelessly costs every client of a 10,000-client run.
func TestPerClientLayouts(t *testing.T) {
	require.LessOrEqual(t, unsafe.Sizeof(Client{}), uintptr(256), "Client (size class 256)")
	require.LessOrEqual(t, unsafe.Sizeof(sub{}), uintptr(144), "a session's subscriber (size class 144)")
	require.LessOrEqual(t, unsafe.Sizeof(sessPub{}), uintptr(112), "a session's publisher with its connection (size class 112)")
	require.LessOrEqual(t, unsafe.Sizeof(slotEpoch{}), uintptr(16), "a snapshot epoch")
}
