package clusterwide

// AskBackoff lets tests pace the questions asked again in milliseconds.
var AskBackoff = &askBackoff
