package views

import (
	"strconv"
	"strings"
	"testing"
)

// The numbered pagination shows the first, last, current and neighbouring
// pages, an ellipsis for each gap of two or more, and a lone missing page
// itself.
func TestPagerItems(t *testing.T) {
	for name, tc := range map[string]struct {
		page, pages int
		want        string
	}{
		"OnePage":          {1, 1, "[1]"},
		"First":            {1, 10, "[1] 2 … 10"},
		"Second":           {2, 10, "1 [2] 3 … 10"},
		"GapOfOneShown":    {4, 10, "1 2 3 [4] 5 … 10"},
		"Middle":           {5, 10, "1 … 4 [5] 6 … 10"},
		"NextToLast":       {9, 10, "1 … 8 [9] 10"},
		"Last":             {10, 10, "1 … 9 [10]"},
		"FewPagesAllShown": {2, 4, "1 [2] 3 4"},
	} {
		p := Pager{Page: tc.page, Pages: tc.pages, Path: "/x", Fragment: "services"}
		var got []string
		for _, it := range p.Items() {
			switch {
			case it.Ellipsis:
				got = append(got, "…")
			case it.Current:
				got = append(got, "["+strconv.Itoa(it.Number)+"]")
			default:
				got = append(got, strconv.Itoa(it.Number))
			}
			if !it.Ellipsis && it.Href != "/x?page="+strconv.Itoa(it.Number)+"#services" {
				t.Errorf("%s: page %d links to %q", name, it.Number, it.Href)
			}
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("%s: page %d of %d shows %q, want %q", name, tc.page, tc.pages, s, tc.want)
		}
	}
}
