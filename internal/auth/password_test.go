package auth

import (
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q is not argon2id with the expected parameters", hash)
	}
	if ok, err := VerifyPassword(hash, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("right password: %v %v", ok, err)
	}
	if ok, err := VerifyPassword(hash, "correct horse battery stapler"); ok || err != nil {
		t.Errorf("wrong password: %v %v", ok, err)
	}
	again, _ := HashPassword("correct horse battery staple")
	if again == hash {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

func TestVerifyRefusesMalformedHashes(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=18$m=1,t=1,p=1$c2FsdA$a2V5", "$argon2id$v=19$m=x$c2FsdA$a2V5", "$argon2id$v=19$m=1,t=1,p=1$!!$a2V5"} {
		if ok, err := VerifyPassword(h, "x"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", h, ok, err)
		}
	}
}

func TestCheckNewPassword(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, password, confirm, field string
	}{
		{"ErrEmpty", "", "", "password"},
		{"ErrTooShort", "elevenchars", "elevenchars", "password"},
		{"ErrTooLong", strings.Repeat("a", 257), strings.Repeat("a", 257), "password"},
		{"ErrMismatch", "twelve chars!", "twelve chars?", "confirm"},
		{"OK", "twelve chars!", "twelve chars!", ""},
	}
	for _, c := range cases {
		errs := CheckNewPassword(c.password, c.confirm)
		if c.field == "" && len(errs) != 0 || c.field != "" && errs[c.field] == "" {
			t.Errorf("%s: errors %v, want one for %q", c.name, errs, c.field)
		}
	}
}

func TestNewUserValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    NewUser
		field string
	}{
		{"ErrEmailMissing", NewUser{Name: "A", Role: Admin}, "email"},
		{"ErrEmailMalformed", NewUser{Email: "not an email", Name: "A", Role: Admin}, "email"},
		{"ErrEmailWithName", NewUser{Email: "Ann <ann@example.nhs.uk>", Name: "A", Role: Admin}, "email"},
		{"ErrNameMissing", NewUser{Email: "a@example.nhs.uk", Role: Admin}, "name"},
		{"ErrRoleUnknown", NewUser{Email: "a@example.nhs.uk", Name: "A", Role: "owner"}, "role"},
		{"ErrBuyerWithoutCCG", NewUser{Email: "a@example.nhs.uk", Name: "A", Role: Buyer}, "ccg"},
	}
	for _, c := range cases {
		in := c.in
		if errs := in.Validate(); errs[c.field] == "" {
			t.Errorf("%s: errors %v, want one for %s", c.name, errs, c.field)
		}
	}
	ok := NewUser{Email: " Ann@Example.NHS.uk ", Name: " Ann ", Role: Reviewer, CCGCode: "16C"}
	if errs := ok.Validate(); len(errs) != 0 {
		t.Fatalf("valid user refused: %v", errs)
	}
	if ok.Email != "ann@example.nhs.uk" || ok.Name != "Ann" || ok.CCGCode != "" {
		t.Errorf("normalised to %+v: want a lower-case email, a trimmed name and no CCG for a reviewer", ok)
	}
}
