package server

import (
	"strings"
	"testing"
)

// The header menu marks one item, the page's section, as nhsuk-frontend
// 10's header does: the li's --current class, aria-current "page" on the
// section's own page and "true" inside it, and the bold fallback. A page
// of a return is in Returns, whatever CCG address it is under.
func TestMenuMarksThePagesSection(t *testing.T) {
	t.Parallel()
	app := newReturnApp(t)
	clients := map[string]*client{
		"reviewer": app.clientAs("reviewer@example.nhs.uk"),
		"buyer":    app.clientAs("buyer.16c@example.nhs.uk"),
		"admin":    app.clientAs("admin@example.nhs.uk"),
	}
	for _, c := range []struct {
		name, who, path, label, aria string
	}{
		{"ReviewPageIsInReturns", "reviewer", novReturn + "/review", "Returns", "true"},
		{"ReturnsList", "reviewer", "/returns", "Returns", "page"},
		{"ReturnOfACCGIsInReturns", "reviewer", novReturn, "Returns", "true"},
		{"ACCG", "reviewer", "/ccgs/16C", "CCGs", "true"},
		{"CCGList", "reviewer", "/ccgs", "CCGs", "page"},
		{"APracticeIsInCCGs", "reviewer", "/practices/A81001", "CCGs", "true"},
		{"Dashboard", "reviewer", "/", "Dashboard", "page"},
		{"BuyersReturnIsInReturnsNotTheirCCG", "buyer", novReturn, "Returns", "true"},
		{"BuyersReturns", "buyer", "/ccgs/16C/returns", "Returns", "page"},
		{"BuyersCCG", "buyer", "/ccgs/16C", "Your CCG", "page"},
		{"BuyersServicesAreInTheirCCG", "buyer", "/ccgs/16C/services", "Your CCG", "true"},
		{"BuyersPracticeIsInTheirCCG", "buyer", "/practices/A81001", "Your CCG", "true"},
		{"OutboxIsInJobs", "admin", "/admin/outbox", "Jobs", "true"},
	} {
		d := doc(t, clients[c.who].get(c.path))
		current := d.Find(".nhsuk-header__navigation-item--current")
		if current.Length() != 1 {
			t.Errorf("%s: %d items marked current, want 1 (%q)", c.name, current.Length(), current.Text())
			continue
		}
		link := current.Find("a.nhsuk-header__navigation-link")
		if got := strings.TrimSpace(link.Find("strong.nhsuk-header__navigation-item-current-fallback").Text()); got != c.label {
			t.Errorf("%s: the current item is %q, want %q", c.name, got, c.label)
		}
		if aria, _ := link.Attr("aria-current"); aria != c.aria {
			t.Errorf("%s: aria-current=%q, want %q", c.name, aria, c.aria)
		}
		if n := d.Find(".nhsuk-header__navigation-list [aria-current]").Length(); n != 1 {
			t.Errorf("%s: %d menu links with aria-current, want 1", c.name, n)
		}
	}
}
