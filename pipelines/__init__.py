"""Dagster wiring only: the definitions, jobs, schedules and sensors built from the assets modules."""

import re
import warnings

# Dagster 1.13 calls `owners` a beta parameter whenever the Definitions copy a sensor to bind its
# resources, because the copy passes on the empty list the sensor stored for "no owners". We set no
# owners; the warning is about Dagster's own call and would only confuse whoever reads the output.
warnings.filterwarnings("ignore", message=re.escape("Parameter `owners` of initializer `SensorDefinition.__init__`"))
