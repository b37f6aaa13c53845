"""Training the answer models wbqa ships: the selector's weights (`wbqa train-selector`)
and the reader (`wbqa train-reader`). Measuring them is `wbqa.evals`' job."""
