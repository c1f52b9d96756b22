"""CityData: a public data open platform for Chinese cities."""
