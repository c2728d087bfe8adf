package views

// The inputs of the sign-in, set-password and user forms, named once for
// the templates and the server's parsers. Each carries the domain's field
// of the same meaning (auth.FieldEmail is InputEmail's), so a refusal
// about a field shows at its input.
const (
	InputEmail    = "email"
	InputPassword = "password"
	InputConfirm  = "confirm"
	InputNext     = "next"
	InputName     = "name"
	InputRole     = "role"
	InputCCG      = "ccg"
	InputVersion  = "version"
)
