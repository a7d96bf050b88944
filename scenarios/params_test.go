package scenarios

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A choice parameter takes exactly its names; anything else is one error
// naming the parameter and the names.
func TestChoiceParam(t *testing.T) {
	sc := &Scenario{Name: "s", Params: []Param{Choice("discovery", "static", []string{"static", "registry"}, "how")}}
	require.NoError(t, checkParams(sc.Params))
	v, err := ResolveParams(sc, nil)
	require.NoError(t, err)
	require.Equal(t, "static", v.String("discovery"))
	v, err = ResolveParams(sc, map[string]string{"discovery": "registry"})
	require.NoError(t, err)
	require.Equal(t, "registry", v.String("discovery"))
	for _, bad := range []string{"", "Registry", "1", "static,registry"} {
		_, err = ResolveParams(sc, map[string]string{"discovery": bad})
		require.EqualError(t, err, `parameter discovery="`+bad+`": want one of static, registry`)
	}
	require.Panics(t, func() { v.Int("discovery") })
	require.ErrorContains(t, checkParams([]Param{Choice("d", "nope", []string{"a"}, "")}), `d="nope"`)
}
