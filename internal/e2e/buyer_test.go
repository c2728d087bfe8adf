package e2e

import (
	"slices"
	"strings"
	"testing"

	"ccgtracker/internal/auth"
)

// TestBuyerJourney follows a CCG buyer from the sign-in page through their
// CCG, a practice and the catalogue, to another CCG they may not see, and
// out again.
func TestBuyerJourney(t *testing.T) {
	t.Parallel()
	base := newApp(t, nil)
	ctx := newBrowser(t)

	// Someone not signed in is sent to sign in, and brought back after.
	if status := visit(t, ctx, base+"/"); status != 200 {
		t.Errorf("/ as nobody: status %d after the redirect, want 200", status)
	}
	if loc := location(t, ctx); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("/ as nobody went to %s, want /login?next=...", loc)
	}
	wantText(t, ctx, "h1", "Sign in")
	checkAccessibility(t, ctx, "login page")

	// A wrong password gives the NHS error summary, linked to the field.
	fill(t, ctx, "email", "buyer.16c@example.nhs.uk")
	fill(t, ctx, "password", "not-the-password")
	if status := click(t, ctx, `form[action="/login"] button[type=submit]`); status != 401 {
		t.Errorf("wrong password: status %d, want 401", status)
	}
	wantContains(t, ctx, ".nhsuk-error-summary", "There is a problem")
	wantText(t, ctx, ".nhsuk-error-summary__list a", "Enter a correct email address and password")
	wantContains(t, ctx, "#email-error", "Enter a correct email address and password")
	if got := texts(t, ctx, "#password"); len(got) != 1 {
		t.Fatalf("the password field is missing after a refused sign-in")
	}
	checkAccessibility(t, ctx, "login page with an error")

	// The right password, from the refused form, goes where they started.
	fill(t, ctx, "email", "buyer.16c@example.nhs.uk")
	fill(t, ctx, "password", auth.DemoPassword)
	if status := click(t, ctx, `form[action="/login"] button[type=submit]`); status != 200 {
		t.Errorf("sign in: status %d, want 200", status)
	}
	wantPath(t, ctx, base, "/")
	wantText(t, ctx, "h1", "NHS Tees Valley CCG")
	wantText(t, ctx, "[data-testid=practice-count]", "81")
	wantText(t, ctx, "[data-testid=user-name]", "Bea Buyer")
	wantText(t, ctx, "[data-testid=user-role]", "CCG buyer, NHS Tees Valley CCG")
	nav := texts(t, ctx, ".nhsuk-header__navigation-list a")
	for _, want := range []string{"Dashboard", "Your CCG", "Catalogue"} {
		if !slices.Contains(nav, want) {
			t.Errorf("the buyer's menu %q lacks %q", nav, want)
		}
	}
	for _, hidden := range []string{"CCGs", "Users", "Audit log"} {
		if slices.Contains(nav, hidden) {
			t.Errorf("the buyer's menu %q offers %q, which their role may not open", nav, hidden)
		}
	}
	checkAccessibility(t, ctx, "buyer dashboard")

	// Their CCG, by the menu: its practices, paged, then searched.
	clickMenu(t, ctx, "/ccgs/16C")
	wantPath(t, ctx, base, "/ccgs/16C")
	wantText(t, ctx, "h1", "NHS Tees Valley CCG")
	wantText(t, ctx, "[data-testid=practice-count]", "81")
	wantText(t, ctx, "[data-testid=pager-summary]", "Showing 1 to 25 of 81")
	if rows := texts(t, ctx, "[data-testid=practice-list] tbody tr"); len(rows) != 25 {
		t.Errorf("the first page lists %d practices, want 25", len(rows))
	}
	checkAccessibility(t, ctx, "CCG 16C")

	fill(t, ctx, "q", "DENSHAM")
	click(t, ctx, ".nhsuk-search-input__button")
	wantPath(t, ctx, base, "/ccgs/16C?q=DENSHAM")
	wantText(t, ctx, "[data-testid=pager-summary]", "Showing 1 to 1 of 1")
	wantText(t, ctx, `[data-testid=practice-list] a[href="/practices/A81001"]`, "THE DENSHAM SURGERY")
	checkAccessibility(t, ctx, "CCG 16C practice search")

	// The practice, by its link.
	click(t, ctx, `[data-testid=practice-list] a[href="/practices/A81001"]`)
	wantPath(t, ctx, base, "/practices/A81001")
	wantText(t, ctx, "h1", "THE DENSHAM SURGERY")
	wantContains(t, ctx, "[data-testid=practice]", "A81001")
	wantContains(t, ctx, "[data-testid=practice]", "STOCKTON PCN")
	wantContains(t, ctx, "[data-testid=practice]", "TS18 1HU")
	wantContains(t, ctx, "[data-testid=practice]", "1 April 1974")
	wantText(t, ctx, "[data-testid=list-size]", "4,100 (January 2021)")
	checkAccessibility(t, ctx, "practice A81001")

	// The catalogue and one of its items with its price.
	clickMenu(t, ctx, "/catalogue")
	wantPath(t, ctx, base, "/catalogue")
	wantText(t, ctx, "h1", "Buying Catalogue")
	if rows := texts(t, ctx, "[data-testid=catalogue-list] tbody tr"); len(rows) == 0 {
		t.Errorf("the catalogue lists no item")
	}
	checkAccessibility(t, ctx, "catalogue")

	if status := visit(t, ctx, base+"/catalogue/10000-001"); status != 200 {
		t.Errorf("/catalogue/10000-001: status %d, want 200", status)
	}
	wantText(t, ctx, "h1", "Emis Web GP")
	price := texts(t, ctx, "[data-testid=prices] tbody tr:first-child td")
	if len(price) < 2 || price[0] != "£1.26" || price[1] != "per patient per year" {
		t.Errorf("the first price of 10000-001 reads %q, want £1.26 per patient per year", price)
	}
	checkAccessibility(t, ctx, "catalogue item 10000-001")

	// Another CCG is not there at all for this buyer.
	if status := visit(t, ctx, base+"/ccgs/03Q"); status != 404 {
		t.Errorf("/ccgs/03Q as the 16C buyer: status %d, want 404", status)
	}
	wantText(t, ctx, "h1", "Page not found")
	if strings.Contains(text(t, ctx, "main"), "Vale of York") {
		t.Errorf("the 404 page names the CCG the buyer may not see")
	}
	checkAccessibility(t, ctx, "page not found")

	// Signing out ends the session: home asks for a sign-in again.
	signOut(t, ctx, base)
	wantContains(t, ctx, "[data-testid=login-notice]", "You have signed out.")
	if got := texts(t, ctx, "[data-testid=user-name]"); len(got) != 0 {
		t.Errorf("the header still shows %q after signing out", got)
	}
	checkAccessibility(t, ctx, "login page after signing out")
	visit(t, ctx, base+"/")
	if loc := location(t, ctx); !strings.Contains(loc, "/login?next=") {
		t.Errorf("/ after signing out went to %s, want the login page", loc)
	}
}
