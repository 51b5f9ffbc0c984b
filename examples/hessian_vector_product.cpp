// hessian_vector_product: the curvature of a small sigmoid MLP's loss along a direction v,
// H·v, by double backward (Pearlmutter's trick), without ever forming H. Checks it against
// finite differences of the gradient, (∇L(θ + εv) − ∇L(θ − εv)) / 2ε, and prints vᵀHv, the
// loss's second derivative along v. The same, by hand: grad(..., set_create_graph(true)), then
// grad of ⟨∇L, v⟩. In double (the finite-difference check needs it): the program names its
// precision once, below, and every function it calls is the double one.
#include <xtgrad/xtgrad.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

using namespace xtgrad;

namespace {

using Tensor = TensorOf<double>;
using Variable = BasicVariable<double>;

int run() {
  Rng rng(3);
  const Tensor x = rand_uniform<double>({16, 4}, rng, -1, 1);  // 16 samples, 4 features
  std::vector<std::size_t> labels;
  for (std::size_t i = 0; i < 16; ++i) labels.push_back(i % 3);
  // θ = (W1 (4, 8), b1 (8), W2 (8, 3), b2 (3)), and a direction v of the same shapes
  std::vector<Variable> theta;
  for (const Shape& shape : {Shape{8, 4}, Shape{8}, Shape{3, 8}, Shape{3}}) {  // Linear weights (out, in)
    theta.push_back(Variable::parameter(randn<double>(shape, rng)));
  }
  std::vector<Tensor> v;
  for (const Variable& p : theta) v.push_back(randn<double>(p.shape(), rng));

  const auto loss = [&](const std::vector<Variable>& p) {
    return cross_entropy(linear(sigmoid(linear(Variable(x), p[0], p[1])), p[2], p[3]), labels);
  };

  // H·v in one call ...
  const std::vector<Tensor> hv = hessian_vector_product(loss, theta, v);
  // ... or spelled out: ∇L with history, then the gradient of ⟨∇L, v⟩.
  const std::vector<Variable> g = grad({loss(theta)}, theta, BasicGradOptions<double>().set_create_graph(true));
  const std::vector<Variable> hv2 = grad(g, theta, BasicGradOptions<double>().set_grad_outputs(v));

  // finite differences of the gradient along v
  const double eps = 1e-5;
  auto gradient_at = [&](double step) {
    std::vector<Variable> p;
    for (std::size_t i = 0; i < theta.size(); ++i) p.push_back(Variable::parameter(Tensor(theta[i].value() + step * v[i])));
    return grad({loss(p)}, p);
  };
  const std::vector<Variable> up = gradient_at(eps), down = gradient_at(-eps);

  double worst = 0, curvature = 0;
  for (std::size_t i = 0; i < theta.size(); ++i) {
    for (std::size_t k = 0; k < v[i].size(); ++k) {
      const double fd = (up[i].value().data()[k] - down[i].value().data()[k]) / (2 * eps);
      worst = std::max(worst, std::abs(hv[i].data()[k] - fd));
      worst = std::max(worst, std::abs(hv[i].data()[k] - hv2[i].value().data()[k]));
      curvature += hv[i].data()[k] * v[i].data()[k];
    }
  }
  std::printf("loss %.6f, v'Hv = %.6f, largest |H.v - finite difference| = %.2e\n", loss(theta).item(), curvature,
              worst);
  if (!(worst < 1e-7)) {
    std::fprintf(stderr, "hessian_vector_product: disagrees with finite differences (%.3e)\n", worst);
    return 1;
  }
  return 0;
}

}  // namespace

int main() { return run(); }
