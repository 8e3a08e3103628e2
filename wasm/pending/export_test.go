package pending

// Plant switches on one known bug for the model's planted-bug test and returns the switch back off.
func Plant(name string) (undo func()) {
	old := planted
	planted = name
	return func() { planted = old }
}
