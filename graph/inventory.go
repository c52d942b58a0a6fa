package graph

// typeInventoryImport is the global ID type of an inventory import.
const typeInventoryImport = "InventoryImport"
