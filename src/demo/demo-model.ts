/** The scoring model `kerma demo` applies to its workspace, so the demo shows scores, grades and MQLs. */
export const DEMO_MODEL = `name: demo-b2b
half_life_days: 30
fit:
  - id: senior-title
    when: { trait: job_title, matches: "(?i)\\\\b(ceo|cto|cmo|vp|head|director)\\\\b" }
    points: 20
  - id: target-industry
    when: { trait: industry, in: [software, technology, it services] }
    points: 15
  - id: company-50-1000
    when: { trait: company_size, between: [50, 1000] }
    points: 10
engagement:
  - id: pricing-page
    when: { event: page, path: { prefix: /pricing } }
    points: 10
    limit: { per: day, times: 1 }
  - id: customers-page
    when: { event: page, path: { prefix: /customers } }
    points: 5
    limit: { per: week, times: 1 }
  - id: demo-request
    when: { event: Demo Requested }
    points: 30
    limit: { per: ever }
  - id: form-submitted
    when: { event: Form Submitted }
    points: 15
  - id: careers-page
    when: { event: page, path: { prefix: /careers } }
    points: -10
thresholds: { mql: 60, nurture: 30, unqualified: 10 }
grades: { A: 35, B: 20, C: 10, engagement: { 1: 40, 2: 20, 3: 5 } }
triggers:
  - id: hot-lead
    when: { score: { crosses_above: 75 } }
    then: [ { webhook: sales } ]
`;
