"""One presenter per feature: what a screen shows (the item, the list, this person's allowed actions, the labels),
built once for the API to dump and the page to render."""
