package send

import (
	"fmt"
	"slices"
	"testing"
)

// wantRefs is what references reads from the outbox after the mails ids: the last nine,
// oldest first, after the first when it is not among them.
func wantRefs(ids []string) []string {
	if len(ids) <= 9 {
		return slices.Clone(ids)
	}
	return append([]string{ids[0]}, ids[len(ids)-9:]...)
}

// A thread kept across a change's mails gives each the References that reading the
// outbox would have, whether it starts empty (a ticket created in the change) or from
// what references read (mail before the change).
func TestThreadKeepsReferences(t *testing.T) {
	t.Parallel()
	for before := 0; before <= 12; before++ {
		var ids []string
		for i := range before {
			ids = append(ids, fmt.Sprintf("<%d@x>", i))
		}
		th := &thread{known: true}
		th.start(wantRefs(ids))
		for i := before; i < before+12; i++ {
			if got, want := th.refs(), wantRefs(ids); !slices.Equal(got, want) {
				t.Fatalf("%d mails before, mail %d: References %v, want %v", before, i, got, want)
			}
			id := fmt.Sprintf("<%d@x>", i)
			th.add(id)
			ids = append(ids, id)
		}
	}
}
