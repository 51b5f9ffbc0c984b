// regularizers: penalties as graph nodes.
#pragma once
